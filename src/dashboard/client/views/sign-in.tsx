import { useEffect, useRef, useState } from 'preact/hooks';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';

/** The sign-in card: the admin key, kept in this tab only. */
export function SignIn({ model }: { model: DashboardModel }) {
  const session = useStore(model.session);
  const [key, setKey] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <section class="card sign-in" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const trimmed = key.trim();
          if (!trimmed) return;
          setKey('');
          model.signIn(trimmed);
        }}
      >
        <label for="admin-key">Admin API key</label>
        <input
          id="admin-key"
          name="key"
          type="password"
          autocomplete="current-password"
          required
          ref={input}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby="key-help key-error"
        />
        <p id="key-help" class="help">
          Kept in this browser tab only (sessionStorage) and sent with every request. On a fresh{' '}
          <code>npm start</code> the key is printed once and saved in <code>.data/admin-api-key</code>.
        </p>
        <p id="key-error" class="error" role="alert">
          {session.reason ?? ''}
        </p>
        <button type="submit">Connect</button>
      </form>
    </section>
  );
}
