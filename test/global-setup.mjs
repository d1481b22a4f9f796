// Jest loads global setup with Node's own loader, which cannot resolve the TypeScript sources; tsx can.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { default: setup } = await tsImport('./setup-database.ts', import.meta.url);
  await setup();
}
