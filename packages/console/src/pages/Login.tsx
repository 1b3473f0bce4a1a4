/** User name and password (`POST /v1/login`), or a token pasted as it is. */
import { useState } from 'react';
import { useAction } from '../api.js';
import { ErrorBox } from '../components/States.js';
import { clientFor } from '../session.js';

export function Login({ done }: { done: (token: string) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const action = useAction();
  return (
    <div className="login">
      <h1>Wharf</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            if (token.trim()) {
              await clientFor(token.trim()).me();
              done(token.trim());
            } else {
              done((await clientFor(undefined).login(user, password)).token);
            }
          });
        }}
      >
        <label>
          User
          <input name="user" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <details>
          <summary>Log in with an API token instead</summary>
          <label>
            Token
            <input name="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} />
          </label>
        </details>
        <button className="primary" disabled={action.busy || (!token && (!user || !password))}>
          {action.busy ? 'Logging in…' : 'Log in'}
        </button>
        <ErrorBox error={action.error} />
      </form>
    </div>
  );
}
