import {useCallback, useEffect, useRef, useState} from 'react';

import {useApp} from '../context';

export interface ApiState<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

// useApi loads one endpoint and reloads it when the path changes. A newer
// request supersedes an older one, so a slow answer never overwrites a
// fresher one (typing in a search box, paging quickly).
export function useApi<T>(path: string | null): ApiState<T> {
  const {api, version} = useApp();
  const [state, setState] = useState<{data?: T; error?: Error; loading: boolean}>({loading: path !== null});
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    if (path === null) return undefined;
    const mine = ++seq.current;
    const ctrl = new AbortController();
    setState((s) => ({data: s.data, loading: true}));
    api.get<T>(path, ctrl.signal).then(
      (data) => {
        if (mine === seq.current) setState({data, loading: false});
      },
      (error: unknown) => {
        if (mine !== seq.current || ctrl.signal.aborted) return;
        setState({error: error instanceof Error ? error : new Error(String(error)), loading: false});
      },
    );
    return () => ctrl.abort();
  }, [api, path, nonce, version]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return {...state, reload};
}

