import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new versioned SQL migration from the table files; commit it with them.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/models/*/*.table.ts',
  out: './src/models/migrations',
});
