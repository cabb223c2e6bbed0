"""The motion-language model (notebooks 04-06): motion words, tokenizer, embedding surgery, T5 wrapper, parser.

Modules:
    vocab      motion words ``<motion_id_k>`` and the id arithmetic of the merged vocabulary
    tokenizer  the text tokenizer (pretrained T5's, or one trained on the captions) plus the motion words
    surgery    growing embeddings and output head without changing old logits
    model      building T5 from a preset, prompts, constrained decoding (``MotionLM``)
    parse      a total parser of model output
"""
