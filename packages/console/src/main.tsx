/** The console's entry: login, then the pages under one layout. */
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { Layout } from './components/Layout.js';
import { Empty, Loading } from './components/States.js';
import { Login } from './pages/Login.js';
import { Overview } from './pages/Overview.js';
import { SessionProvider } from './session.js';
import './styles.css';

// Pages load when first opened: the terminal, charts and the YAML editor stay out of the first download.
const Hosts = lazy(() => import('./pages/Hosts.js').then((m) => ({ default: m.Hosts })));
const HostDetail = lazy(() => import('./pages/HostDetail.js').then((m) => ({ default: m.HostDetail })));
const Networks = lazy(() => import('./pages/Networks.js').then((m) => ({ default: m.Networks })));
const Images = lazy(() => import('./pages/Images.js').then((m) => ({ default: m.Images })));
const Apps = lazy(() => import('./pages/Apps.js').then((m) => ({ default: m.Apps })));
const AppDetail = lazy(() => import('./pages/AppDetail.js').then((m) => ({ default: m.AppDetail })));
const Sets = lazy(() => import('./pages/Sets.js').then((m) => ({ default: m.Sets })));
const SetDetail = lazy(() => import('./pages/SetDetail.js').then((m) => ({ default: m.SetDetail })));
const Create = lazy(() => import('./pages/Create.js').then((m) => ({ default: m.Create })));
const Volumes = lazy(() => import('./pages/Volumes.js').then((m) => ({ default: m.Volumes })));
const VolumeDetail = lazy(() => import('./pages/VolumeDetail.js').then((m) => ({ default: m.VolumeDetail })));
const Access = lazy(() => import('./pages/Access.js').then((m) => ({ default: m.Access })));
const Audit = lazy(() => import('./pages/Audit.js').then((m) => ({ default: m.Audit })));

function NotFound() {
  return <Empty>No such page.</Empty>;
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider login={(done) => <Login done={done} />}>
        <Layout>
          <Suspense fallback={<Loading what="the page" />}>
            <Routes>
              <Route path="/" element={<Overview />} />
              <Route path="/hosts" element={<Hosts />} />
              <Route path="/hosts/:name" element={<HostDetail />} />
              <Route path="/apps" element={<Apps />} />
              <Route path="/apps/:appkey" element={<AppDetail />} />
              <Route path="/sets" element={<Sets />} />
              <Route path="/sets/:appkey/:id" element={<SetDetail />} />
              <Route path="/create" element={<Create />} />
              <Route path="/volumes" element={<Volumes />} />
              <Route path="/volumes/:appkey/:id" element={<VolumeDetail />} />
              <Route path="/networks" element={<Networks />} />
              <Route path="/images" element={<Images />} />
              <Route path="/access" element={<Access />} />
              <Route path="/audit" element={<Audit />} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Suspense>
        </Layout>
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
