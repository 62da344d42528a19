/**
 * The stand-in in its own process for `npm run bench`, so that its work does not share an event
 * loop with the connectors being measured. Sends its origin once listening; takes knob changes.
 */
import { type StandInKnobs, seededUsers, startXiaomiStandIn } from '../harness/xiaomi-stand-in.js';

const standIn = await startXiaomiStandIn({ autoApprove: true, users: seededUsers });
process.on('message', (knobs: Partial<StandInKnobs>) => {
  Object.assign(standIn.knobs, knobs);
  process.send?.('knobs set');
});
process.on('disconnect', () => {
  void standIn.close();
});
process.send?.(standIn.origin);
