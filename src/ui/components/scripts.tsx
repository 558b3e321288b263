/** The pages' own scripts from /assets, run once the page is parsed (after app.js, which defines csrfFetch). */
export function Scripts({ names }: { names: readonly string[] }) {
  return (
    <>
      {names.map((name) => (
        <script src={`/assets/${name}.js`} defer />
      ))}
    </>
  );
}
