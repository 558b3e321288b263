import { Field } from './field.js';
import { TemplateCheck } from './template-check.js';
import { TextArea } from './text-area.js';

/*
 * The fields of a mailing as POST /api/mailings takes them: each named by its path in the body
 * (`channel.url`, `template.body`), so that an error the API names finds its field. The fields of
 * one channel type show only while it is chosen (mailing-fields.js).
 */

const CHANNELS = [
  { type: 'log', label: 'Message log (the service’s own file)' },
  { type: 'webhook', label: 'Webhook (POST each message as JSON)' },
  { type: 'smtp', label: 'Email (the configured SMTP server)' },
] as const;

export function MailingFields() {
  return (
    <>
      <Field name="name" label="Name" required maxlength={200} autocomplete="off" />
      <div class="field">
        <label for="field-channel.type">Channel</label>
        <select id="field-channel.type" name="channel.type">
          {CHANNELS.map(({ type, label }) => (
            <option value={type}>{label}</option>
          ))}
        </select>
      </div>
      <div data-channel-fields="webhook" hidden>
        <Field name="channel.url" label="Webhook URL" type="url" autocomplete="off" />
      </div>
      <div data-channel-fields="smtp" hidden>
        <Field name="channel.from" label="From address" type="email" autocomplete="off" />
      </div>
      <Field name="template.subject" label="Subject (optional)" maxlength={2000} autocomplete="off" />
      <TextArea name="template.body" label="Body" rows={6} required spellcheck={false} class="mono" />
      <p class="hint">
        The recipient is <code>client</code>: <code>{'{{ client.first_name }}'}</code>, a new code with{' '}
        <code>{"{{ client.promocode('<group>') }}"}</code>, the last one again with <code>{"{{ client.last_promocode('<group>') }}"}</code>.
      </p>
      <TemplateCheck subjectField="field-template.subject" bodyField="field-template.body" />
    </>
  );
}
