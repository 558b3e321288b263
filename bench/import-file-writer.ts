import { once } from 'node:events';
import { fileChunks } from './import-lines.js';

// The import bench's file on stdout, made as the pipe takes it: a client of its own, as an uploader is.
for (const chunk of fileChunks()) {
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}
