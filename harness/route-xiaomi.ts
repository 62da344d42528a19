/**
 * Sends this process's requests for Xiaomi's hosts to a stand-in, from the outside: the connector
 * keeps Xiaomi's real URLs and never learns it is being redirected.
 */
import {
  Agent,
  type Dispatcher,
  getGlobalDispatcher,
  ProxyAgent,
  setGlobalDispatcher,
} from 'undici';

const xiaomiOrigins = new Set(['https://account.xiaomi.com', 'https://open.account.xiaomi.com']);

/**
 * Xiaomi paths whose next requests are refused, with how many: they go to a port where nothing
 * listens, so the kernel refuses the connection, as when a host is down.
 */
export const refusedConnections = new Map<string, number>();

/** A port where nothing listens: 1 (tcpmux), which no test machine serves and only root could. */
const refusingOrigin = 'http://127.0.0.1:1';

const takeRefusal = (path: string) => {
  const pathname = path.split('?')[0] ?? path;
  const left = refusedConnections.get(pathname) ?? 0;
  if (left > 0) {
    refusedConnections.set(pathname, left - 1);
  }
  return left > 0;
};

/** Where Xiaomi's requests go: another origin, or through another dispatcher (a proxy). */
type XiaomiRoute = { origin: string } | { via: Dispatcher };

class XiaomiRouter extends Agent {
  constructor(private readonly route: XiaomiRoute) {
    super({ connections: 256 });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers) {
    if (!xiaomiOrigins.has(String(options.origin))) {
      return super.dispatch(options, handler);
    }
    if (takeRefusal(options.path)) {
      return super.dispatch({ ...options, origin: refusingOrigin }, handler);
    }
    return 'via' in this.route
      ? this.route.via.dispatch(options, handler)
      : super.dispatch({ ...options, origin: this.route.origin }, handler);
  }
}

const install = (route: XiaomiRoute) => {
  const previous = getGlobalDispatcher();
  const router = new XiaomiRouter(route);
  setGlobalDispatcher(router);

  return async () => {
    setGlobalDispatcher(previous);
    await router.close();
    if ('via' in route) {
      await route.via.close();
    }
  };
};

/** Routes Xiaomi's hosts to `target` (e.g. `http://127.0.0.1:40123`); returns the undo. */
export const routeXiaomiTo = (target: string) => install({ origin: target });

/** Sends Xiaomi's requests through the HTTPS proxy at `proxy`, trusting `ca`; returns the undo. */
export const routeXiaomiThroughProxy = (proxy: string, ca: string) =>
  install({ via: new ProxyAgent({ uri: proxy, requestTls: { ca } }) });
