import { z } from 'zod';
import { nullableText, requiredText } from '../validation/text-fields.js';
import { minutesOfTime } from './business-hours.js';
import { isTimeZone, WEEKDAYS } from './time-zones.js';

/**
 * What the team API accepts for a member. Working hours are one window per weekday in
 * the member's own time zone; a day left out is a day off.
 */
const time = z.string().refine((value) => minutesOfTime(value) !== null, {
  error: 'must be a time HH:MM (00:00 to 24:00)',
});

const dayWindow = z
  .tuple([time, time])
  .refine(([open, close]) => minutesOfTime(open)! < minutesOfTime(close)!, {
    error: 'must end after it starts',
  });

export const workingHoursSchema = z.strictObject({
  timezone: z.string().refine(isTimeZone, { error: 'must be an IANA time zone such as Europe/Berlin' }),
  days: z.strictObject(Object.fromEntries(WEEKDAYS.map((day) => [day, dayWindow.optional()]))),
});

export const memberFields = {
  name: requiredText(120),
  email: z
    .email({ error: 'must be an email address' })
    .max(254)
    .transform((value) => value.toLowerCase()),
  role: z.enum(['admin', 'agent'], { error: 'must be admin or agent' }),
  phone: nullableText(32),
  slackUserId: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, { error: 'must be a Slack user id such as U024BE7LH' })
    .nullable()
    .optional(),
  telegramChatId: z
    .string()
    .regex(/^-?\d{1,20}$/, { error: 'must be a numeric Telegram chat id' })
    .nullable()
    .optional(),
  capacity: z.number().int().min(0).max(100_000).nullable().optional(),
  workingHours: workingHoursSchema.nullable().optional(),
};

export const createMemberBody = z.strictObject({ ...memberFields, active: z.boolean().optional() });

export const updateMemberBody = z
  .strictObject({
    name: memberFields.name.optional(),
    email: memberFields.email.optional(),
    role: memberFields.role.optional(),
    phone: memberFields.phone,
    slackUserId: memberFields.slackUserId,
    telegramChatId: memberFields.telegramChatId,
    capacity: memberFields.capacity,
    workingHours: memberFields.workingHours,
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: 'must change at least one field' });

export type CreateMemberInput = z.infer<typeof createMemberBody>;
export type UpdateMemberInput = z.infer<typeof updateMemberBody>;
