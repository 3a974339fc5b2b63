/*
 * Preloaded (-r) into the API and worker only under `--cpu-prof`. Nest's shutdown hooks close
 * the app on SIGTERM and then re-raise the signal, and a process killed by a signal never writes
 * its --cpu-prof profile. This turns that final self-kill into a normal exit, so it does.
 */
const originalKill = process.kill.bind(process);
process.kill = ((pid: number, signal?: string | number) => {
  if (pid === process.pid && (signal === 'SIGTERM' || signal === 'SIGINT')) process.exit(0);
  return originalKill(pid, signal);
}) as typeof process.kill;
