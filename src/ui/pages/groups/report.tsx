import type { UploadReport } from '../../../db/codes.js';
import { formatNumber } from '../../format.js';
import { DataTable } from '../../components/data-table.js';

/** A report longer than this shows its first lines only. */
const SHOWN_INVALID_LINES = 1000;

/** What a paste did, line by line for the lines it refused. */
export function UploadReportView({ report }: { report: UploadReport }) {
  const shown = report.invalid.slice(0, SHOWN_INVALID_LINES);
  return (
    <section class="report" aria-labelledby="report-title">
      <h3 id="report-title">Upload report</h3>
      <ul class="report-counts">
        <li>
          <strong data-report="added">{formatNumber(report.added)}</strong> added
        </li>
        <li>
          <strong data-report="duplicates">{formatNumber(report.duplicates)}</strong> duplicates skipped
        </li>
        <li>
          <strong data-report="invalid">{formatNumber(report.invalid.length)}</strong> invalid lines
        </li>
      </ul>
      {shown.length > 0 && (
        <DataTable columns={[{ label: 'Line', numeric: true }, 'Value', 'Reason']} caption={<>Invalid lines {shown.length < report.invalid.length && ` (the first ${formatNumber(shown.length)})`}</>}>
          {shown.map((line) => (
            <tr>
              <td class="num">{formatNumber(line.line)}</td>
              <td class="mono">{line.value}</td>
              <td>{line.reason}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
