import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// a list: a mailing names several groups; each group appears as its id and its name
export const PromoGroup = defineSearchAttributeKey('PromoGroup', SearchAttributeType.KEYWORD_LIST);
export const PromoJobKind = defineSearchAttributeKey('PromoJobKind', SearchAttributeType.KEYWORD);
export const PromoMailingId = defineSearchAttributeKey('PromoMailingId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [PromoGroup, PromoJobKind, PromoMailingId];
