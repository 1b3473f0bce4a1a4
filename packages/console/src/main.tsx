/** The console's entry: login, then the pages under one layout. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { Layout } from './components/Layout.js';
import { Empty } from './components/States.js';
import { Login } from './pages/Login.js';
import { Overview } from './pages/Overview.js';
import { SessionProvider } from './session.js';
import './styles.css';

function NotFound() {
  return <Empty>No such page.</Empty>;
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider login={(done) => <Login done={done} />}>
        <Layout>
          <Routes>
            <Route path="/" element={<Overview />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Layout>
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
