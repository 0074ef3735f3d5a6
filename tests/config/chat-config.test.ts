import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The conversation settings (issue 14): defaults, and bad values stop the process naming the variable. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('conversation config', () => {
  it('defaults: chat on, 30-day tokens, a 120 s alert cooldown, 100 messages a minute', () => {
    const config = loadConfig({});
    expect(config.chat).toEqual({ disabled: false, tokenTtlDays: 30, alertCooldownSeconds: 120 });
    expect(config.http.rateLimits.chatMessagesPerMinute).toBe(100);
    expect(config.http.rateLimits.chatReadsPerMinute).toBe(600);
    expect(loadConfig({ CHAT_DISABLED: 'true' }).chat.disabled).toBe(true);
  });

  it.each([
    [{ CHAT_DISABLED: 'sometimes' }, 'CHAT_DISABLED must be true or false'],
    [{ CONVERSATION_TOKEN_TTL_DAYS: '0' }, 'CONVERSATION_TOKEN_TTL_DAYS must be at least 1'],
    [{ CONVERSATION_TOKEN_TTL_DAYS: 'forever' }, 'CONVERSATION_TOKEN_TTL_DAYS must be a whole number'],
    [{ MESSAGE_ALERT_COOLDOWN_SECONDS: '-5' }, 'MESSAGE_ALERT_COOLDOWN_SECONDS must be at least 0'],
    [{ MESSAGE_ALERT_COOLDOWN_SECONDS: '2.5' }, 'MESSAGE_ALERT_COOLDOWN_SECONDS must be a whole number'],
    [{ RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE: '0' }, 'RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE must be at least 1'],
    [{ RATE_LIMIT_CHAT_READS_PER_MINUTE: 'many' }, 'RATE_LIMIT_CHAT_READS_PER_MINUTE must be a whole number'],
  ])('refuses %o naming the variable', (env, expected) => {
    expect(problemsOf(env).join('\n')).toContain(expected);
  });
});
