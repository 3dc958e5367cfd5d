// A port held as something else on the machine would hold it: what a server that must not start
// there, or must move elsewhere, meets.

import { createServer, type Server } from 'node:net';

export async function holdPort(port: number): Promise<Server> {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
  return busy;
}
