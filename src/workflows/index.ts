export { GenerateCodesWorkflow } from './generate-codes.js';
