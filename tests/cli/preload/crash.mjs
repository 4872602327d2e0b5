// Loaded into the CLI worker by the output tests (NODE_OPTIONS=--import): the worker dies by a signal
// before it can say anything, as a crash in Dawn's C++ would end it.
if (process.env.LORA_CLI_WORKER === String(process.ppid)) {
  process.stderr.write('native crash report that the user does not need to see\n');
  setTimeout(() => process.kill(process.pid, 'SIGSEGV'), 200);
}
