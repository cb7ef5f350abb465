"""The model graph: recurrent models as small framework-neutral DAGs (DESIGN: "The model graph").

base.py        what every node kind has (shapes, weights, masks) and the kind table
recurrent.py   the recurrent node (simple, lstm, gru; every Keras option, bidirectional)
layers.py      embedding, masking, dense, activation, dropout, layer and batch norm
shape_ops.py   pooling, flatten, repeat, step, merges, softmax, dot, conv1d, pool1d
model.py       ModelGraph: inputs, nodes, outputs; validation, shapes, masks, JSON
weights.py     GraphWeights: canonical arrays per node
chain.py       today's chain ModelSpec as a graph
reference.py   the numpy forward pass over any graph, the oracle
"""
