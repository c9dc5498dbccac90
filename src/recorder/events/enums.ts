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
  pgFlush: ['full', 'token', 'count-bound', 'bytes-bound', 'guarantee-switch'],
  pgAssemblyError: [
    'orphan-continuation',
    'wrong-message',
    'fragment-gap',
    'length-overrun',
    'length-mismatch',
    'unfinished',
    'too-large',
    'full-but-unfinished',
  ],
  pgDropReason: ['left', 'bad-frame', 'self-joined', 'sender-joined'],
  pgDecodeError: [
    'truncated',
    'bad-magic',
    'bad-version',
    'bad-type',
    'bad-length',
    'bad-count',
    'bad-value',
    'trailing-bytes',
  ],
  pgRefusal: ['try-again', 'too-large'],
};
