/** How the queue's load check tells its worker processes where the queue and the store are. */
export const LOAD_QUEUE_VARIABLE = 'POSENC_LOAD_QUEUE';
export const LOAD_STORE_VARIABLE = 'POSENC_LOAD_STORE';
