import { bigint, timestamp } from 'drizzle-orm/pg-core';

/** Shared column builders, so every table spells ids, money and time the same way. */

export const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity();

/** A reference to another table's bigint id. */
export const ref = (name: string) => bigint(name, { mode: 'number' });

/**
 * Money is integer micro-dollars (1 USD = 1,000,000): one GPT-4o-mini assessment costs a fraction of a cent,
 * so whole cents would round every one of them to zero. 2^53 micro-dollars is about nine billion dollars.
 */
export const micros = (name: string) => bigint(name, { mode: 'number' });

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
export const at = (name: string) => timestamp(name, { withTimezone: true });
