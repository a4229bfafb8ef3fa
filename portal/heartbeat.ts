import type { Socket } from './terminal-socket.js';

// A dead peer (a laptop closed on Wi-Fi) is otherwise noticed only when TCP gives up,
// after minutes, with the terminal's output queued for it all that time. Every
// `intervalMs` each socket is pinged; one that has not answered the previous ping is
// ended. A client that stopped reading answers no ping either: the ping waits behind
// what is queued for it.
export function createHeartbeat(intervalMs: number, onTick: () => void = () => undefined) {
  const alive = new WeakMap<Socket, boolean>();
  const sockets = new Set<Socket>();
  const timer = setInterval(() => {
    for (const socket of sockets) {
      if (alive.get(socket) !== true) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
    onTick();
  }, intervalMs);
  timer.unref();
  return {
    watch(socket: Socket): void {
      sockets.add(socket);
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      socket.once('close', () => sockets.delete(socket));
    },
    close(): void {
      clearInterval(timer);
      for (const socket of sockets) socket.terminate();
      sockets.clear();
    },
  };
}
