import { defineLayer } from '../event-spec.js';

/** Events of the recorder itself and of process life (ids 1..99). */
export const RECORDER_EVENTS = defineLayer('rec', 1, 99, {
  OPEN: { id: 1, args: ['pid', 'nodeId:n', 'slots:u', 'mapped:b'], doc: 'ring opened' },
  CLOSE: { id: 2, args: ['reason:s'], doc: 'ring closed cleanly' },
  MARK: { id: 3, args: ['what:s', 'a', 'b', 'c'], doc: 'a marker (signal, exit, dump)' },
  ASSERT: { id: 4, args: ['message:s', 'a', 'b', 'c'], doc: 'assertion failed' },
  DUMP: { id: 5, args: ['path:s'], doc: 'ring dumped on demand' },
  STRING: { id: 6, args: ['id:u'], doc: 'a string was interned' },
  SIGNAL: { id: 7, args: ['signal:s'], doc: 'a signal arrived' },
  ERROR: { id: 8, args: ['message:s', 'code'], doc: 'an uncaught error' },
  CONT: { id: 99, args: ['a4', 'a5', 'a6', 'a7'], doc: 'continuation slot of a wide event' },
});
