/** A set's events, newest first. */
import { useApi } from '../api.js';
import { EventsTable, newestFirst } from '../components/EventsTable.js';
import { Data } from '../components/States.js';

export function SetEvents({ appkey, id }: { appkey: string; id: string }) {
  const events = useApi((c) => c.setEvents(appkey, id), [appkey, id]);
  return (
    <Data q={events} what="events" empty="No events yet.">
      {(list) => <EventsTable events={newestFirst(list, 200)} label="Set events" host />}
    </Data>
  );
}
