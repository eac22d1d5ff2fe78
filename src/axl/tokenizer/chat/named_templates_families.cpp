// Axolotl's named chat templates, part 2: Gemma, Phi, Qwen, DeepSeek, Cohere, Metharme.
// Written here from each model family's prompt format: which tokens open and close each
// role's turn, where the system prompt goes, what the generation prompt is, which
// conversations it refuses.
// tests/chat/test_named_templates.cpp checks them against Axolotl's own renders.
//
// Layout convention: every tag opens with "-" so the source can be indented freely; text is
// emitted only from expressions.
#include <map>
#include <string>

#include "axl/tokenizer/chat/named_template_texts.h"

namespace axl::chat {

namespace {

const char* kGemma = R"JINJA(
{{- bos_token }}
{%- if messages[0]['role'] == 'system' %}
    {{- raise_exception('System role not supported') }}
{%- endif %}
{%- for m in messages %}
    {%- if (m.role == 'user') != loop.index0 is even %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {{- '<start_of_turn>' + ('model' if m.role == 'assistant' else m.role) + '\n' }}
    {%- if m.content is string %}
        {{- m.content | trim }}
    {%- else %}
        {%- for part in m.content if 'text' in part %}
            {{- part.text | trim }}
        {%- endfor %}
    {%- endif %}
    {{- '<end_of_turn>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<start_of_turn>model\n' }}
{%- endif %})JINJA";

// Gemma 3: no system turn; the system text opens the first user turn.
const char* kGemma3 = R"JINJA(
{{- bos_token }}
{%- set prefix = '' %}
{%- set turns = messages %}
{%- if messages[0]['role'] == 'system' %}
    {%- set c = messages[0]['content'] %}
    {%- set prefix = (c if c is string else c | selectattr('text', 'defined') | map(attribute='text') | join('')) + '\n\n' %}
    {%- set turns = messages[1:] %}
{%- endif %}
{%- for m in turns %}
    {%- if (m.role == 'user') != loop.index0 is even %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {{- '<start_of_turn>' + ('model' if m.role == 'assistant' else m.role) + '\n' }}
    {%- if loop.first %}
        {{- prefix }}
    {%- endif %}
    {%- if m.content is string %}
        {{- m.content | trim }}
    {%- elif m.content is iterable %}
        {%- for part in m.content %}
            {%- if part.type == 'image' %}
                {{- '<start_of_image>' }}
            {%- elif part.type == 'text' %}
                {{- part.text | trim }}
            {%- endif %}
        {%- endfor %}
    {%- else %}
        {{- raise_exception('Invalid content type') }}
    {%- endif %}
    {{- '<end_of_turn>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<start_of_turn>model\n' }}
{%- endif %})JINJA";

// Phi-3: every user turn already ends with the assistant header.
const char* kPhi3 = R"JINJA(
{{- bos_token }}
{%- for m in messages %}
    {%- if m.role == 'system' %}
        {{- '<|system|>\n' + m.content + '<|end|>\n' }}
    {%- elif m.role == 'user' %}
        {{- '<|user|>\n' + m.content + '<|end|>\n<|assistant|>\n' }}
    {%- elif m.role == 'assistant' %}
        {{- m.content + '<|end|>\n' }}
    {%- endif %}
{%- endfor %})JINJA";

const char* kPhi35 = R"JINJA(
{%- for m in messages %}
    {%- if m.role in ['user', 'assistant'] or (m.role == 'system' and m.content) %}
        {{- '<|' + m.role + '|>\n' + m.content + '<|end|>\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|assistant|>\n' }}
{%- endif %})JINJA";

// Phi-4 (reasoning): a default system prompt asking for <think> sections; the assistant text
// is marked as the trainable part with {% generation %}.
const char* kPhi4 = R"JINJA(
{%- set system_text = 'You are Phi, a language model trained by Microsoft to help users. Your role as an assistant involves thoroughly exploring questions through a systematic thinking process before providing the final precise and accurate solutions. This requires engaging in a comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection, backtracing, and iteration to develop well-considered thinking process. Please structure your response into two main sections: Thought and Solution using the specified format: <think> {Thought section} </think> {Solution section}. In the Thought section, detail your reasoning process in steps. Each step should include detailed considerations such as analysing questions, summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the current steps, refining any errors, and revisiting previous steps. In the Solution section, based on various attempts, explorations, and reflections from the Thought section, systematically present the final solution that you deem correct. The Solution section should be logical, accurate, and concise and detail necessary steps needed to reach the conclusion. Now, try to solve the following question through the above guidelines:' %}
{%- set turns = messages %}
{%- if messages and messages[0]['role'] == 'system' %}
    {%- set system_text = messages[0]['content'] %}
    {%- set turns = messages[1:] %}
{%- endif %}
{{- '<|im_start|>system<|im_sep|>' ~ system_text ~ '<|im_end|>' }}
{%- for m in turns %}
    {%- if m.role == 'user' %}
        {{- '<|im_start|>user<|im_sep|>' + m.content + '<|im_end|>' }}
    {%- elif m.role == 'assistant' %}
        {{- '<|im_start|>assistant<|im_sep|>' }}
        {%- generation %}
            {{- m.content + '<|im_end|>' }}
        {%- endgeneration %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant<|im_sep|>' }}
{%- endif %})JINJA";

// The Qwen tool preamble (Qwen2.5 and Qwen3 share it).
#define AXL_QWEN_TOOLS_HEADER                                                                        \
  "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are " \
  "provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}\n"                \
  "{%- for t in tools %}{{- '\\n' + (t | tojson) }}{%- endfor %}\n"                                   \
  "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and "         \
  "arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\"name\": <function-name>, "    \
  "\"arguments\": <args-json-object>}\\n</tool_call><|im_end|>\\n' }}\n"

const char* kQwen25 =
    "{%- set default_system = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' %}\n"
    "{%- set first_is_system = messages[0]['role'] == 'system' %}\n"
    "{%- set system_text = messages[0]['content'] if first_is_system else default_system %}\n"
    "{%- if tools %}\n"
    "{{- '<|im_start|>system\\n' + system_text + '\\n\\n' }}\n" AXL_QWEN_TOOLS_HEADER
    R"JINJA({%- else %}
    {{- '<|im_start|>system\n' + system_text + '<|im_end|>\n' }}
{%- endif %}
{%- for m in messages %}
    {%- if m.role == 'user' or (m.role == 'system' and not loop.first) or (m.role == 'assistant' and not m.tool_calls) %}
        {{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}
    {%- elif m.role == 'assistant' %}
        {{- '<|im_start|>assistant' }}
        {%- if m.content %}
            {{- '\n' + m.content }}
        {%- endif %}
        {%- for call in m.tool_calls %}
            {%- set fn = call.function if call.function is defined else call %}
            {{- '\n<tool_call>\n{"name": "' + fn.name + '", "arguments": ' + (fn.arguments | tojson) + '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif m.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' + m.content + '\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %})JINJA";

// Qwen3: the reasoning of assistant turns after the last real user query is kept in a
// <think> block; the generation prompt opens one (closed at once when enable_thinking=false).
const char* kQwen3 =
    R"JINJA({%- macro text_of(content) %}
    {%- if content is none %}
    {%- elif content is string %}
        {{- content }}
    {%- else %}
        {%- for part in content if 'text' in part %}
            {{- part['text'] }}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- text_of(messages[0].content) + '\n\n' }}
    {%- endif %}
)JINJA" AXL_QWEN_TOOLS_HEADER
    R"JINJA({%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + text_of(messages[0].content) + '<|im_end|>\n' }}
{%- endif %}
{%- set query = namespace(index=messages | length - 1, found=false) %}
{%- for m in messages | reverse %}
    {%- if not query.found and m.role == 'user' %}
        {%- set wrapped = m.content is string and m.content.startswith('<tool_response>') and m.content.endswith('</tool_response>') %}
        {%- if not wrapped %}
            {%- set query.found = true %}
            {%- set query.index = messages | length - loop.index %}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- set last_index = real_last_index if (real_last_index is defined and real_last_index is not none) else messages | length - 1 %}
{%- for m in messages %}
    {%- if m.role == 'user' or (m.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + m.role + '\n' + text_of(m.content) + '<|im_end|>\n' }}
    {%- elif m.role == 'assistant' %}
        {%- set content = text_of(m.content) %}
        {%- set reasoning = '' %}
        {%- if m.reasoning_content is string %}
            {%- set reasoning = m.reasoning_content %}
        {%- elif '</think>' in content %}
            {%- set reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\n') %}
        {%- endif %}
        {%- if loop.index0 > query.index and (loop.index0 == last_index or reasoning) %}
            {{- '<|im_start|>assistant\n<think>\n' + reasoning.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
        {%- else %}
            {{- '<|im_start|>assistant\n' + content }}
        {%- endif %}
        {%- for call in (m.tool_calls or []) %}
            {%- if content or not loop.first %}
                {{- '\n' }}
            {%- endif %}
            {%- set fn = call.function if call.function else call %}
            {{- '<tool_call>\n{"name": "' + fn.name + '", "arguments": ' }}
            {{- fn.arguments if fn.arguments is string else fn.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif m.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' + text_of(m.content) + '\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {{- '<think>\n\n</think>\n\n' if (enable_thinking is defined and enable_thinking is false) else '<think>\n\n' }}
{%- endif %})JINJA";

const char* kDeepseekV2 = R"JINJA(
{{- bos_token }}
{%- for m in messages %}
    {%- if m.role == 'user' %}
        {{- '<｜User｜>' + m.content }}
    {%- elif m.role == 'assistant' %}
        {{- '<｜Assistant｜>' + m.content + eos_token }}
    {%- elif m.role == 'system' %}
        {{- m.content + '\n\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<｜Assistant｜>' }}
{%- endif %})JINJA";

// DeepSeek V3: all system texts go first; tool calls and outputs use the ▁-named tokens.
const char* kDeepseekV3 = R"JINJA(
{%- set st = namespace(in_tool=false, first_output=true) %}
{{- bos_token }}
{{- messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | join('\n\n') }}
{%- for m in messages %}
    {%- if m.role == 'user' %}
        {%- set st.in_tool = false %}
        {{- '<｜User｜>' + m.content }}
    {%- elif m.role == 'assistant' and 'tool_calls' in m %}
        {%- if st.in_tool %}
            {{- '<｜tool▁outputs▁end｜>' }}
        {%- endif %}
        {%- set st.in_tool = false %}
        {%- for call in m.tool_calls %}
            {%- if loop.first %}
                {{- '<｜Assistant｜>' + (m.content if m.content is not none else '') + '<｜tool▁calls▁begin｜>' }}
            {%- else %}
                {{- '\n' }}
            {%- endif %}
            {{- '<｜tool▁call▁begin｜>' + call.type + '<｜tool▁sep｜>' + call.function.name + '\n```json\n' + call.function.arguments + '\n```<｜tool▁call▁end｜>' }}
        {%- endfor %}
        {{- '<｜tool▁calls▁end｜><｜end▁of▁sentence｜>' }}
    {%- elif m.role == 'assistant' %}
        {%- set content = m.content if m.content is not none else '' %}
        {%- if st.in_tool %}
            {{- '<｜tool▁outputs▁end｜>' + content + '<｜end▁of▁sentence｜>' }}
            {%- set st.in_tool = false %}
        {%- else %}
            {{- '<｜Assistant｜>' + content.split('</think>')[-1] + '<｜end▁of▁sentence｜>' }}
        {%- endif %}
    {%- elif m.role == 'tool' %}
        {%- if not st.in_tool %}
            {%- set st.first_output = true %}
        {%- endif %}
        {%- set st.in_tool = true %}
        {%- if st.first_output %}
            {{- '<｜tool▁outputs▁begin｜>' }}
            {%- set st.first_output = false %}
        {%- endif %}
        {{- '<｜tool▁output▁begin｜>' + m.content + '<｜tool▁output▁end｜>' }}
    {%- endif %}
{%- endfor %}
{%- if st.in_tool %}
    {{- '<｜tool▁outputs▁end｜>' }}
{%- endif %}
{%- if add_generation_prompt and not st.in_tool %}
    {{- '<｜Assistant｜>' }}
{%- endif %})JINJA";

const char* kCohere = R"JINJA(
{{- bos_token }}
{%- set turns = messages %}
{%- if messages[0]['role'] == 'system' %}
    {{- '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + messages[0]['content'] + '<|END_OF_TURN_TOKEN|>' }}
    {%- set turns = messages[1:] %}
{%- endif %}
{%- for m in turns %}
    {%- if (m.role == 'user') != loop.index0 is even %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if m.role == 'user' %}
        {{- '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + m.content.strip() + '<|END_OF_TURN_TOKEN|>' }}
    {%- elif m.role == 'assistant' %}
        {{- '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' + m.content.strip() + '<|END_OF_TURN_TOKEN|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}
{%- endif %})JINJA";

// Metharme (Pygmalion): always a system turn, with a role-play default.
const char* kMetharme = R"JINJA(
{{- bos_token }}
{%- set turns = messages %}
{%- set system_text = 'Enter RP mode. You shall reply to the user while staying in character. Your responses must be detailed, creative, immersive, and drive the scenario forward.' %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_text = messages[0]['content'] %}
    {%- set turns = messages[1:] %}
{%- endif %}
{{- '<|system|>' + system_text }}
{%- for m in turns %}
    {%- if m.role == 'user' %}
        {{- '<|user|>' + m.content.strip() }}
    {%- elif m.role == 'assistant' %}
        {{- '<|model|>' + m.content.strip() }}
    {%- endif %}
{%- endfor %}
{{- '<|model|>' if add_generation_prompt else eos_token }})JINJA";

}  // namespace

void add_family_templates(std::map<std::string, std::string>& t) {
  t["gemma"] = kGemma;
  t["gemma3"] = kGemma3;
  t["phi_3"] = kPhi3;
  t["phi_35"] = kPhi35;
  t["phi_4"] = kPhi4;
  t["qwen_25"] = kQwen25;
  t["qwen3"] = kQwen3;
  t["deepseek_v2"] = kDeepseekV2;
  t["deepseek_v3"] = kDeepseekV3;
  t["cohere"] = kCohere;
  t["metharme"] = kMetharme;
}

}  // namespace axl::chat
