-- wrk: GET a fixed path with a bearer token. Usage: wrk ... -s auth_get.lua URL -- PATH TOKEN
local path, auth

function init(args)
    path = args[1]
    auth = "Bearer " .. args[2]
end

function request()
    return wrk.format("GET", path, { ["Authorization"] = auth })
end

function done(summary, latency, requests)
    io.write(string.format("non-2xx-or-3xx: %d\n", summary.errors.status))
end
