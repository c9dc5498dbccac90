/**
 * Names for enum-kind arguments (`e:NAME`). Append only: an index, once given, keeps its
 * meaning so that old rings still decode.
 */
export const ENUMS: Readonly<Record<string, readonly string[]>> = {
  confKind: ['transitional', 'regular'],
  confRole: ['member', 'left', 'joined'],
  srpState: ['OPERATIONAL', 'GATHER', 'COMMIT', 'RECOVERY'],
  srpReason: [
    'start',
    'token-loss',
    'foreign-message',
    'join',
    'consensus-timeout',
    'commit-token',
    'recovery-done',
    'failed-to-receive',
    'leave',
    'merge-detect',
  ],
  transportMode: ['udpu', 'udp'],
  cipher: ['none', 'aes256', 'chacha20'],
  transportDrop: [
    'truncated',
    'bad-magic',
    'bad-version',
    'unknown-cipher',
    'cipher-mismatch',
    'unknown-sender',
    'auth-failed',
    'address-mismatch',
    'self',
  ],
};
