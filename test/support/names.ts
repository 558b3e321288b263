export const TEMPLATE_DATABASE = 'promo_template';
