/** Where clients look for the daemon's socket unless told (`--socket`, TOTEM_SOCKET). */
export const DEFAULT_SOCKET_DIR = '/run/totem';
export const DEFAULT_SOCKET_PATH = `${DEFAULT_SOCKET_DIR}/totem.sock`;

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TOTEM_SOCKET ?? DEFAULT_SOCKET_PATH;
}
