/**
 * Data: the ADL HW2 layout (loading with validation, writing), SQuAD/DRCD import, the
 * deterministic sample dataset and the corpus vocabulary builder.
 * @module
 */
export * from "./types.ts";
export * from "./json.ts";
export * from "./load.ts";
export { dataJson, toFileRecords, writeContexts, writeExamples } from "./write.ts";
export {
  codePointTable,
  codePointToUtf16,
  hasAstral,
  spansToCodePoints,
  utf16ToCodePoint,
} from "./offsets.ts";
export { type ImportedSquad, importSquad, type ImportSquadOptions } from "./squad.ts";
export {
  HF_EXPORT_SPLITS,
  hfExportFileName,
  hfExportFiles,
  type SquadRecord,
  SWAG_NUM_ENDINGS,
  type SwagRecord,
  toSquadRecords,
  toSwagRecords,
} from "./hf_export.ts";
export {
  basicTokenize,
  buildVocab,
  type BuildVocabOptions,
  compareCodePoints,
  isBertControl,
  isBertPunctuation,
  isBertWhitespace,
  isChineseChar,
  MAX_CHARS_PER_WORD,
  SPECIAL_TOKENS,
  vocabText,
} from "./vocab.ts";
export {
  DEFAULT_SAMPLE_SEED,
  DEFAULT_SAMPLE_SIZES,
  type EntityType,
  generateSampleDataset,
  type ParagraphInfo,
  type QuestionInfo,
  type SampleDataset,
  type SampleOptions,
  type SampleSizes,
} from "./sample/generate.ts";
export {
  SAMPLE_FILES,
  sampleDatasetFiles,
  sampleReadme,
  type SampleStats,
  sampleStats,
} from "./sample/files.ts";
