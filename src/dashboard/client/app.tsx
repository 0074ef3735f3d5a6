import { useEffect } from 'preact/hooks';
import type { DashboardModel } from './dashboard.js';
import { PAGES } from './pages.js';
import { useRoute } from './router.js';
import { useStore } from './state/store.js';
import { Banner } from './views/banner.js';
import { Header } from './views/header.js';
import { SignIn } from './views/sign-in.js';

/** The shell: header, then sign-in or the banner and the view the URL names. */
export function App({ model }: { model: DashboardModel }) {
  const route = useRoute();
  const session = useStore(model.session);
  const page = PAGES.find((p) => p.id === route.page);

  useEffect(() => {
    if (session.signedIn) model.live.start();
  }, [session.signedIn]);

  useEffect(() => {
    document.title = `${page?.title ?? 'Not found'} · leadrelay admin`;
  }, [page]);

  return (
    <>
      <Header model={model} route={route} pages={PAGES} />
      <main id="main" tabIndex={-1}>
        {!session.signedIn ? (
          <SignIn model={model} />
        ) : (
          <>
            <Banner model={model} />
            {page ? (
              <page.component model={model} route={route} />
            ) : (
              <p class="card">
                No such view. <a href="#/leads">Go to the leads</a>.
              </p>
            )}
          </>
        )}
      </main>
    </>
  );
}
