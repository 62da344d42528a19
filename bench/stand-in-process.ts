/**
 * The stand-in in its own process for `npm run bench`, so that its work does not share an event
 * loop with the connectors being measured. Sends its origin once listening; takes knob changes
 * and faults for the next requests of an endpoint, and says when each is in place.
 */
import {
  type StandInEndpoint,
  type StandInFault,
  type StandInKnobs,
  seededUsers,
  startXiaomiStandIn,
} from '../harness/xiaomi-stand-in.js';

export type StandInOrder =
  | { knobs: Partial<StandInKnobs> }
  | { failNext: { endpoint: StandInEndpoint; fault: StandInFault } };

const standIn = await startXiaomiStandIn({ autoApprove: true, users: seededUsers });
process.on('message', (order: StandInOrder) => {
  if ('knobs' in order) {
    Object.assign(standIn.knobs, order.knobs);
  } else {
    standIn.failNext(order.failNext.endpoint, order.failNext.fault);
  }
  process.send?.('done');
});
process.on('disconnect', () => {
  void standIn.close();
});
process.send?.(standIn.origin);
