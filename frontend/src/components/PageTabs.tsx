import type {MouseEvent} from 'react';

import {ROUTES, hrefWithQuery, navigate, routeIndex} from '../router';

// PageTabs is the in-page navigation: real links (so Tab, Enter, a middle
// click and "copy link" all work) that the router handles without a reload.
// Inside Shopify's admin the App Bridge nav menu offers the same pages.
export function PageTabs({path}: {path: string}) {
  // A detail screen (/customers/123) keeps its list's tab current.
  const current = ROUTES[routeIndex(path)]?.path;
  const onClick = (to: string) => (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <nav aria-label="App pages" className="cvo-tabs">
      <ul>
        {ROUTES.map((r) => (
          <li key={r.path}>
            <a
              href={hrefWithQuery(r.path)}
              onClick={onClick(r.path)}
              aria-current={current === r.path ? 'page' : undefined}
              className={current === r.path ? 'cvo-tab cvo-tab--active' : 'cvo-tab'}
            >
              {r.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
