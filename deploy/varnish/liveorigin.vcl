# Varnish (7.x) in front of liveorigin: a template to copy into production.
# Replace @ORIGIN_HOST@ and @ORIGIN_PORT@ (the test does it with sed).
# What each part is for, and what the tests measured: docs/cdn.md.
vcl 4.1;

import std;

backend origin {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
    .connect_timeout = 1s;
    # The origin holds a GET for the next segment until a pipeline publishes it, for
    # at most hold_ms_max (default 2 * segment_duration_ms, 4 s with 2 s segments): the
    # first byte may take that long. Keep this above the largest hold_ms_max of any
    # event, or a held fetch fails and every viewer waiting on it gets a 503.
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

# Who may BAN (liveorigin purge-follow, run next to this Varnish).
acl liveorigin_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "BAN") {
        if (client.ip !~ liveorigin_purgers) {
            return (synth(403, "BAN not allowed from this address"));
        }
        # A regex over the URLs of cached objects, optionally only those a given
        # pipeline's copy filled (the invalidation feed's "pipeline").
        if (!req.http.Liveorigin-Ban-Url) {
            return (synth(400, "BAN needs a Liveorigin-Ban-Url header"));
        }
        if (req.http.Liveorigin-Ban-Pipeline) {
            if (std.ban("obj.http.Liveorigin-Url ~ " + req.http.Liveorigin-Ban-Url +
                        " && obj.http.Live-Pipeline == " + req.http.Liveorigin-Ban-Pipeline)) {
                return (synth(200, "banned"));
            }
        } else if (std.ban("obj.http.Liveorigin-Url ~ " + req.http.Liveorigin-Ban-Url)) {
            return (synth(200, "banned"));
        }
        return (synth(400, "bad ban: " + std.ban_error()));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        # Ingest (PUT), admin writes, CORS preflights: straight to the origin.
        return (pass);
    }
    if (req.http.Authorization || req.url ~ "^/admin/") {
        return (pass);
    }
    # Delivery is the same for every viewer: cookies never change an answer.
    unset req.http.Cookie;
    # Lookup with request coalescing (Varnish's waiting list): concurrent misses for
    # one URL wait for the single fetch, also while the origin holds it.
    return (hash);
}

sub vcl_hash {
    # One origin behind this cache: the URL alone names an answer, whatever Host the
    # viewer or the tier in front sent (nginx's default key does the same).
    hash_data(req.url);
    return (lookup);
}

sub vcl_backend_response {
    # Kept with the object so a ban can match its URL without a request (lurker-friendly).
    set beresp.http.Liveorigin-Url = bereq.url;
    # The millisecond TTL (RFC 9213 CDN-Cache-Control with liveorigin's max-age-ms):
    # Cache-Control's whole seconds would keep a not-yet 404 up to a second too short
    # and a 1.5 s TTL as 1 s.
    if (beresp.http.CDN-Cache-Control ~ "max-age-ms=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.CDN-Cache-Control, "^.*max-age-ms=([0-9]+).*$", "\1") + "ms", 0s);
    }
    # No grace: the origin's TTLs end exactly when a new answer may exist (a not-yet
    # 404 when the segment can be held, a defective copy when an upgrade may have
    # arrived). Serving past them would show viewers a stale refusal.
    set beresp.grace = 0s;
    set beresp.keep = 0s;
    if (beresp.ttl <= 0s) {
        # Not cacheable (/time, /metrics, a hold that timed out). Unlike the built-in
        # VCL, no 2-minute hit-for-miss: that would stop coalescing on this URL.
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
    }
    # Skip the built-in vcl_backend_response, which would reapply its own rules.
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.Liveorigin-Url;
    if (obj.hits > 0) {
        set resp.http.Liveorigin-Cache = "HIT";
    } else {
        set resp.http.Liveorigin-Cache = "MISS";
    }
}
