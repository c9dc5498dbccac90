/** Small pieces every client class shares. */

/** Races a promise against an AbortSignal, removing the listener whichever settles first. */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The name a client gives the daemon by default: its script's file name. */
export function clientName(): string {
  const script = process.argv[1] ?? 'node';
  return script.slice(script.lastIndexOf('/') + 1).slice(0, 200);
}
