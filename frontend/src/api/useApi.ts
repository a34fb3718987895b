import {useCallback, useEffect, useRef, useState} from 'react';

import {useApp} from '../context';
import type {TypedClient} from './client';
import type {Lenient} from './types';

export interface ApiState<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

// Loader calls one route of the contract's client.
export type Loader<T> = (api: TypedClient, signal: AbortSignal) => Promise<{data?: T; error?: unknown}>;

// useApi loads one route and reloads it when its key changes (the route
// and its parameters). A newer request supersedes an older one, so a slow
// answer never overwrites a fresher one (typing in a search box, paging
// quickly). The answer is read leniently (see Lenient).
export function useApi<T>(key: string | null, load: Loader<T>): ApiState<Lenient<T>> {
  const {api, version} = useApp();
  const [state, setState] = useState<{data?: Lenient<T>; error?: Error; loading: boolean}>({loading: key !== null});
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    if (key === null) return undefined;
    const mine = ++seq.current;
    const ctrl = new AbortController();
    setState((s) => ({data: s.data, loading: true}));
    loader.current(api.typed, ctrl.signal).then(
      ({data, error}) => {
        if (mine !== seq.current) return;
        if (data === undefined) {
          setState({error: error instanceof Error ? error : new Error('The server sent no answer.'), loading: false});
          return;
        }
        setState({data: data as Lenient<T>, loading: false});
      },
      (error: unknown) => {
        if (mine !== seq.current || ctrl.signal.aborted) return;
        setState({error: error instanceof Error ? error : new Error(String(error)), loading: false});
      },
    );
    return () => ctrl.abort();
  }, [api, key, nonce, version]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return {...state, reload};
}
