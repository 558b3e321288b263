import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import busboy from 'busboy';
import { ValidationError } from '../domain/errors.js';

export interface UploadedFile {
  /** the part's declared type and file name */
  mimeType: string;
  filename: string | undefined;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * The part named `field` of a multipart/form-data body, as a stream of its bytes: nothing is
 * buffered beyond what the parser holds. Past `maxBytes` the chunks end with `onTooLarge()`.
 */
export async function multipartFile(
  body: ReadableStream<Uint8Array> | null,
  contentType: string,
  field: string,
  maxBytes: number,
  onTooLarge: () => Error,
): Promise<UploadedFile> {
  const parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: maxBytes } });
  const found = new Promise<UploadedFile>((resolve, reject) => {
    parser.on('file', (name, stream, info) => {
      if (name !== field) {
        stream.resume();
        return;
      }
      resolve({
        mimeType: info.mimeType,
        filename: info.filename,
        chunks: (async function* () {
          for await (const chunk of stream as AsyncIterable<Uint8Array>) yield chunk;
          if ((stream as { truncated?: boolean }).truncated) throw onTooLarge();
        })(),
      });
    });
    parser.on('close', () => reject(new ValidationError(`The form has no file field "${field}".`, [{ path: field, message: 'required' }])));
    parser.on('error', (error: Error) => reject(new ValidationError(`The multipart body is malformed: ${error.message}`, [{ path: field, message: error.message }])));
  });
  if (body) Readable.fromWeb(body as NodeWebStream<Uint8Array>).pipe(parser);
  else parser.end();
  return found;
}
