-- SPDX-License-Identifier: MIT
-- wrk's script for B7 (bench/b7.sh): what each request is, and one JSON
-- line for bench/report.py when the run is done.
--   B7_MODE      get: GET /heroes/{random id in 1..B7_HEROES}
--                post: POST /heroes/ with a new hero
--                fixed: GET /health (the calx service's fixed body)
--   B7_IMPL, B7_BACKEND, B7_CONNECTIONS: copied into the line
local mode = os.getenv("B7_MODE") or "get"
local heroes = tonumber(os.getenv("B7_HEROES") or "100000")
local phases = { get = "GET /heroes/{id}", post = "POST /heroes/", fixed = "fixed JSON body" }
local json_header = { ["Content-Type"] = "application/json" }
local thread_no = 0
local sent = 0

function setup(thread)
    thread_no = thread_no + 1
    thread:set("seed", thread_no)
end

function init(args)
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    if mode == "get" then
        return wrk.format("GET", "/heroes/" .. math.random(1, heroes))
    elseif mode == "post" then
        sent = sent + 1
        local body = string.format('{"name": "Bench-%d-%d", "secret_name": "s", "age": %d}',
                                   seed or 0, sent, sent % 100)
        return wrk.format("POST", "/heroes/", json_header, body)
    end
    return wrk.format("GET", "/health")
end

function done(summary, latency, requests)
    local e = summary.errors
    local errors = e.connect + e.read + e.write + e.status + e.timeout
    local seconds = summary.duration / 1e6
    local backend = os.getenv("B7_BACKEND") or "sqlite"
    io.write(string.format(
        '{"case": "B7", "backend": "%s", "impl": "%s", "phase": "%s", %s"connections": %s, ' ..
        '"ops": %d, "seconds": %.3f, "ops_per_s": %.1f, "mean_us": %.1f, "p99_us": %.1f, ' ..
        '"errors": %d}\n',
        backend, os.getenv("B7_IMPL") or "calx", phases[mode],
        backend == "sqlite" and '"journal": "wal", ' or "",
        os.getenv("B7_CONNECTIONS") or "50", summary.requests, seconds,
        summary.requests / seconds, latency.mean, latency:percentile(99), errors))
end
