/**
 * Sends this process's requests for Xiaomi's hosts to a stand-in, from the outside: the connector
 * keeps Xiaomi's real URLs and never learns it is being redirected.
 */
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';

const xiaomiOrigins = new Set(['https://account.xiaomi.com', 'https://open.account.xiaomi.com']);

class XiaomiRouter extends Agent {
  constructor(private readonly target: string) {
    super({ connections: 256 });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers) {
    const origin = String(options.origin);
    return super.dispatch(
      xiaomiOrigins.has(origin) ? { ...options, origin: this.target } : options,
      handler,
    );
  }
}

/** Routes Xiaomi's hosts to `target` (e.g. `http://127.0.0.1:40123`); returns the undo. */
export const routeXiaomiTo = (target: string) => {
  const previous = getGlobalDispatcher();
  const router = new XiaomiRouter(target);
  setGlobalDispatcher(router);

  return async () => {
    setGlobalDispatcher(previous);
    await router.close();
  };
};
