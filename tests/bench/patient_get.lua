-- wrk: GET /api/v1/patients/{id} for random ids in [lo, hi], with a bearer token.
-- Usage: wrk ... -s patient_get.lua URL -- LO HI TOKEN
local lo, hi, auth

function init(args)
    lo, hi = tonumber(args[1]), tonumber(args[2])
    auth = "Bearer " .. args[3]
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
    return wrk.format("GET", "/api/v1/patients/" .. math.random(lo, hi), { ["Authorization"] = auth })
end

function done(summary, latency, requests)
    io.write(string.format("non-2xx-or-3xx: %d\n", summary.errors.status))
end
