// Whether a process on this machine is alive: signal 0 checks without sending anything (EPERM:
// alive, but another user's).

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
