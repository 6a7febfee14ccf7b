--[[
Optional server-side deduplication for paxcron's slurm launcher (docs/slurm.md): the controller
refuses a second job whose name it already knows, so that even a launch the cron could not rule
out (an sbatch whose reply was lost, a lookup that came too early) cannot start a run twice.

Slurm calls job_submit() under its job write lock, one submission at a time, so the check and
the record below are atomic: of 10 identical concurrent submissions, 1 is accepted.

Only names of paxcron's run form (JOB@TIME) are checked; every other job passes untouched.
Names are remembered in this Lua state (kept between calls; lost when slurmctld restarts or the
script is reloaded) for `remember_s` seconds, and at load the jobcomp file (jobcomp/filetxt) is
read so that runs finished before a restart are still refused. A job that is pending or running
across a restart is not remembered: set JobCompType=jobcomp/filetxt and keep this window in mind.

Install (on the slurmctld host):
  1. copy this file next to slurm.conf (e.g. /etc/slurm/job_submit.lua), readable by SlurmUser;
  2. in slurm.conf: JobSubmitPlugins=lua
  3. restart slurmctld (or `scontrol reconfigure`).
A refused sbatch prints "paxcron-duplicate: ..." and paxcron records the run as already existing.
]]

local remember_s = 7 * 24 * 3600
local jobcomp_file = "/var/log/slurm/jobcomp.txt"  -- JobCompLoc; adjust to your slurm.conf

local seen = {}  -- run name -> when first seen (seconds since 1970)
local loaded = false

local function is_run_name(name)
  return name ~= nil and string.find(name, "^[%w._-]+@[%w:._-]+Z$") ~= nil
end

local function load_jobcomp()
  loaded = true
  local f = io.open(jobcomp_file, "r")
  if f == nil then return end
  for line in f:lines() do
    local name = string.match(line, " Name=(%S+) ")
    if is_run_name(name) then seen[name] = os.time() end
  end
  f:close()
end

local function forget_old(now)
  for name, t in pairs(seen) do
    if now - t > remember_s then seen[name] = nil end
  end
end

function slurm_job_submit(job_desc, part_list, submit_uid)
  if not loaded then load_jobcomp() end
  local name = job_desc.name
  if not is_run_name(name) then return slurm.SUCCESS end
  local now = os.time()
  if seen[name] ~= nil then
    slurm.log_user("paxcron-duplicate: a job named %s is already known to the controller", name)
    return slurm.ERROR
  end
  if math.random(1000) == 1 then forget_old(now) end
  seen[name] = now
  return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
  -- A rename to a known run name would defeat the check.
  if job_desc.name ~= nil and is_run_name(job_desc.name) and seen[job_desc.name] ~= nil then
    slurm.log_user("paxcron-duplicate: a job named %s is already known", job_desc.name)
    return slurm.ERROR
  end
  return slurm.SUCCESS
end

slurm.log_info("paxcron job_submit.lua loaded")
return slurm.SUCCESS
