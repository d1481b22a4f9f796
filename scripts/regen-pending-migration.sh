#!/bin/sh
# Development helper while several table changes are in flight: throws away the migrations not yet landed
# (everything after $KEEP) and regenerates one migration holding all current table changes.
set -e
export KEEP=${KEEP:-1}  # exported: the node step below reads it (unexported, it emptied the journal)
cd "$(dirname "$0")/.."
node -e '
const fs=require("fs");const p="src/models/migrations/meta/_journal.json";
const j=JSON.parse(fs.readFileSync(p,"utf8"));const keep=+process.env.KEEP;
for (const e of j.entries.filter(e=>e.idx>keep)) {
  fs.rmSync(`src/models/migrations/${e.tag}.sql`,{force:true});
  fs.rmSync(`src/models/migrations/meta/${String(e.idx).padStart(4,"0")}_snapshot.json`,{force:true});
}
j.entries=j.entries.filter(e=>e.idx<=keep);fs.writeFileSync(p,JSON.stringify(j,null,2));
' 
npx drizzle-kit generate --name "${NAME:-queue_batches_review}"
