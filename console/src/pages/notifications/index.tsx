import { Route, Routes } from 'react-router';
import { NotFound } from '../NotFound';
import { ChannelEditor } from './ChannelEditor';
import { ChannelList } from './ChannelList';
import { DeadLetters } from './DeadLetters';
import { History } from './History';
import { NotificationPage } from './NotificationPage';
import { NotifierStatus } from './NotifierStatus';
import { Preferences } from './Preferences';
import { RuleEditor } from './RuleEditor';
import { RuleList } from './RuleList';
import { RulePage } from './RulePage';
import { Templates } from './Templates';
import './notifications.css';

/** The notifications room: history, channels, rules, my preferences, dead letters and the notifier. */
export default function NotificationsRoom() {
  return (
    <Routes>
      <Route index element={<History />} />
      <Route path="channels" element={<ChannelList />} />
      <Route path="channels/new" element={<ChannelEditor />} />
      <Route path="channels/:id/edit" element={<ChannelEditor />} />
      <Route path="rules" element={<RuleList />} />
      <Route path="rules/new" element={<RuleEditor />} />
      <Route path="rules/:id" element={<RulePage />} />
      <Route path="rules/:id/edit" element={<RuleEditor />} />
      <Route path="preferences" element={<Preferences />} />
      <Route path="dead-letters" element={<DeadLetters />} />
      <Route path="status" element={<NotifierStatus />} />
      <Route path="templates" element={<Templates />} />
      <Route path=":id" element={<NotificationPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
