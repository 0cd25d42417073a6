// The visual builder's canvas (React Flow): one node per step, laid out
// top to bottom in run order, an edge from each step to the next. Steps run
// in sequence, so connecting A → B moves B right after A; the edges follow
// the order and cannot be removed on their own.
import { useEffect, useMemo, useRef, type DragEvent } from 'react';
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type Node,
  type NodeProps,
  type ReactFlowInstance,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { Obj } from './model';
import { DRAG_TYPE } from './Palette';

const GAP = 110;
const FIT = { maxZoom: 1 };

type StepData = { id: string; type: string; errors: number; index: number };
type StepNodeT = Node<StepData, 'step'>;

function StepNode({ data, selected }: NodeProps<StepNodeT>) {
  return (
    <div className={['step-node', selected ? 'selected' : '', data.errors ? 'has-errors' : ''].filter(Boolean).join(' ')}>
      <Handle type="target" position={Position.Top} />
      <div className="step-node-id">
        {data.index + 1}. {data.id || '(no id)'}
      </div>
      <div className="step-node-type">{data.type || '(no type)'}</div>
      {data.errors > 0 && (
        <span className="badge status-error step-node-badge">
          {data.errors} {data.errors === 1 ? 'error' : 'errors'}
        </span>
      )}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

interface Props {
  steps: Obj[];
  errorsOf: (index: number) => number;
  selected: number | null;
  onSelect: (index: number | null) => void;
  onConnect: (source: number, target: number) => void;
  onDropType: (type: string, at: number) => void;
  onRemove: (index: number) => void;
  readOnly: boolean;
}

export function Canvas({ steps, errorsOf, selected, onSelect, onConnect, onDropType, onRemove, readOnly }: Props) {
  const nodes = useMemo<StepNodeT[]>(
    () =>
      steps.map((s, i) => ({
        id: String(i),
        type: 'step',
        position: { x: 0, y: i * GAP },
        selected: i === selected,
        ariaLabel: `Step ${i + 1}: ${String(s.id ?? '')} (${String(s.type ?? '')})${errorsOf(i) ? `, ${errorsOf(i)} errors` : ''}`,
        data: { id: String(s.id ?? ''), type: String(s.type ?? ''), errors: errorsOf(i), index: i },
      })),
    [steps, selected, errorsOf],
  );
  const edges = useMemo<Edge[]>(
    () => steps.slice(1).map((_, i) => ({ id: `e${i}`, source: String(i), target: String(i + 1), deletable: false, ariaLabel: `Step ${i + 1} then step ${i + 2}` })),
    [steps],
  );
  const flow = useRef<ReactFlowInstance<StepNodeT, Edge> | null>(null);
  // A step added or removed: the view fits them all again (new nodes are
  // measured first; React Flow's fitView waits for that).
  useEffect(() => {
    void flow.current?.fitView(FIT);
  }, [steps.length]);

  const drop = (e: DragEvent) => {
    const type = e.dataTransfer.getData(DRAG_TYPE);
    if (!type || readOnly || !flow.current) return;
    e.preventDefault();
    const p = flow.current.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    onDropType(type, Math.max(0, Math.round(p.y / GAP + 0.5)));
  };

  return (
    <div className="canvas" onDragOver={(e) => e.dataTransfer.types.includes(DRAG_TYPE) && e.preventDefault()} onDrop={drop}>
      <ReactFlow<StepNodeT, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onInit={(i) => {
          flow.current = i;
        }}
        onNodesChange={(changes) => {
          for (const c of changes) if (c.type === 'select' && c.selected) onSelect(Number(c.id));
        }}
        onNodeClick={(_, n) => onSelect(Number(n.id))}
        onPaneClick={() => onSelect(null)}
        onConnect={(c: Connection) => onConnect(Number(c.source), Number(c.target))}
        onNodesDelete={(ns) => ns.map((n) => Number(n.id)).sort((a, b) => b - a).forEach(onRemove)}
        nodesDraggable={false}
        nodesConnectable={!readOnly}
        deleteKeyCode={readOnly ? null : ['Delete']}
        fitView
        fitViewOptions={FIT}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
