/**
 * Imports a module on first use and hands the same promise to every later call: Logto imports
 * every connector at start, and a repeated dynamic `import()` costs about a millisecond a request.
 */
export const onFirstUse = <T>(load: () => Promise<T>) => {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
};
