/** An app's events (scaling, autoscaler decisions, rollouts…), newest first. */
import { useApi } from '../api.js';
import { EventsTable, newestFirst } from '../components/EventsTable.js';
import { Data } from '../components/States.js';

const SHOWN = 100;

export function AppEvents({ appkey }: { appkey: string }) {
  const events = useApi((c) => c.appEvents(appkey), [appkey]);
  return (
    <section className="card wide" aria-labelledby="events-h">
      <h2 id="events-h">Events</h2>
      <Data q={events} what="events" empty="No events yet.">
        {(list) => <EventsTable events={newestFirst(list, SHOWN)} label="App events" />}
      </Data>
    </section>
  );
}
