-- The mixed HTTP load of bench/http_load.py, for wrk: board 50%, deal page 30%, moves 10%, reports 10%.
-- Arguments after `--`: session cookie, API token, comma-separated deal ids to open, comma-separated deal ids to
-- move (each in 确认 with its checklist done), number of threads. Each thread moves its own share of the movable
-- deals round robin, advancing one from 确认 and reverting it on its next turn, so no two requests move the same
-- deal at once and every move is one the workflow allows. Any answer but 200 counts as an error.
-- With the single argument "baseline" every request is GET /static/style.css instead: the same server's floor.
-- An empty list of deals to move (the warm-up) puts a board request in the moves' place, so the measured run
-- finds every movable deal still in 确认.
-- The summary is written as JSON to the file named by BENCH_OUT.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

local function split(text)
  local out = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(out, item)
  end
  return out
end

local REPORTS = { "/reports/funnel", "/reports/weekly", "/reports/stalled", "/reports/forecast" }

function init(args)
  n, turn, errors, moves = 0, 0, 0, 0
  statuses = {}
  baseline = args[1] == "baseline"
  if baseline then
    return
  end
  cookie = args[1]
  token = args[2]
  deals = split(args[3])
  local movable_all = split(args[4])
  local nthreads = tonumber(args[5])
  movable, stage = {}, {}
  for i, deal in ipairs(movable_all) do
    if i % nthreads == id % nthreads then
      table.insert(movable, deal)
      stage[deal] = "qualify"
    end
  end
  math.randomseed(id)
end

function request()
  if baseline then
    return wrk.format("GET", "/static/style.css")
  end
  n = n + 1
  local slot = n % 10
  if slot < 5 then
    return wrk.format("GET", "/board", { Cookie = cookie })
  elseif slot < 8 then
    return wrk.format("GET", "/deals/" .. deals[math.random(#deals)], { Cookie = cookie })
  elseif slot == 8 and #movable > 0 then
    turn = turn % #movable + 1
    local deal = movable[turn]
    local body
    if stage[deal] == "qualify" then
      body = '{"trigger": "advance"}'
      stage[deal] = "evaluate"
    else
      body = '{"trigger": "revert", "reason": "bench"}'
      stage[deal] = "qualify"
    end
    moves = moves + 1
    local headers = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }
    return wrk.format("POST", "/api/v1/deals/" .. deal .. "/transitions", headers, body)
  elseif slot == 8 then
    return wrk.format("GET", "/board", { Cookie = cookie })  -- no deal to move (the warm-up)
  else
    return wrk.format("GET", REPORTS[math.floor(n / 10) % #REPORTS + 1], { Cookie = cookie })
  end
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local errors_total, moves_total, codes = 0, 0, {}
  for _, thread in ipairs(threads) do
    errors_total = errors_total + thread:get("errors")
    moves_total = moves_total + thread:get("moves")
    for code, seen in pairs(thread:get("statuses")) do
      table.insert(codes, string.format('"%d": %d', code, seen))
    end
  end
  local e = summary.errors
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "moves": %d, "http_errors": %d, "statuses": {%s}, '
      .. '"socket_errors": %d, "timeouts": %d, "latency_us": {"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, moves_total, errors_total, table.concat(codes, ", "),
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean
  ))
  out:close()
end
