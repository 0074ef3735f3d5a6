import { useEffect, useState } from 'preact/hooks';

/**
 * The dashboard's address lives in the URL's hash, so reload, back/forward and links
 * from alerts (`/admin#/leads/<id>`) all land where they point:
 *
 *   #/<page>[/<id>][?name=value&...]     e.g. #/leads/4f0c...?status=new&q=bella
 *
 * `page` names a view in pages.ts; `id` is the item the view shows (a lead); the
 * query holds the view's filters. parseHash and formatHash are pure (tested in node);
 * navigate() pushes a history entry (or replaces the current one).
 */
export interface Route {
  page: string;
  id: string | null;
  params: Record<string, string>;
}

export const DEFAULT_PAGE = 'leads';

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = text.split('?', 2);
  const [page, id] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (value !== '') params[name] = value;
  }
  return { page: page || DEFAULT_PAGE, id: id ?? null, params };
}

export function formatHash(route: Route): string {
  const path = [route.page, route.id].filter((part): part is string => Boolean(part));
  const query = new URLSearchParams(
    Object.entries(route.params).filter(([, value]) => value !== undefined && value !== ''),
  ).toString();
  return `#/${path.map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`;
}

export function currentRoute(): Route {
  return parseHash(window.location.hash);
}

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const hash = formatHash(route);
  if (hash === window.location.hash) return;
  if (options.replace) {
    history.replaceState(null, '', hash);
    // replaceState fires no hashchange: tell the listeners ourselves.
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
