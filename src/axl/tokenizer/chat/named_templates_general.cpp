// Axolotl's named chat templates, part 1: Alpaca, ChatML, Llama 3/4, Mistral. Written here
// from each model family's prompt format: which tokens open and close each role's turn,
// where the system prompt goes, what the generation prompt is, which conversations it refuses.
// tests/chat/test_named_templates.cpp checks them against Axolotl's own renders.
//
// Layout convention: every tag opens with "-" so the source can be indented freely; text is
// emitted only from expressions.
#include <map>
#include <string>

#include "axl/tokenizer/chat/named_template_texts.h"

namespace axl::chat {

namespace {

const char* kAlpaca = R"JINJA(
{{- bos_token }}
{%- for m in messages %}
    {%- if m.role == 'system' and loop.first %}
        {{- m.content }}
    {%- elif m.role == 'user' %}
        {{- '### Instruction:\n' + m.content }}
    {%- elif m.role == 'assistant' %}
        {{- '### Response:\n' + m.content + eos_token }}
    {%- endif %}
    {%- if not loop.last %}
        {{- '\n\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '\n\n### Response:\n' }}
{%- endif %})JINJA";

const char* kChatml = R"JINJA(
{%- for m in messages %}
    {{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %})JINJA";

// Content given as a list of parts contributes the text of its text parts.
const char* kLlama3 = R"JINJA(
{%- for m in messages %}
    {#- The first turn is prefixed with bos_token (which must then be defined). #}
    {%- set head = bos_token + '<|start_header_id|>' if loop.first else '<|start_header_id|>' %}
    {%- if m.content is string %}
        {%- set text = m.content | trim %}
    {%- else %}
        {%- set text = m.content | selectattr('text', 'defined') | map(attribute='text') | join('') | trim %}
    {%- endif %}
    {{- head + m.role + '<|end_header_id|>\n\n' + text + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %})JINJA";

// Llama 4: <|header_start|>role<|header_end|> turns closed by <|eot|>; tools are described in
// the first user turn (the default, tools_in_user_message) or in the system turn.
const char* kLlama4 = R"JINJA(
{%- macro text_of(content) %}
    {%- if content is string %}
        {{- content }}
    {%- else %}
        {{- content | selectattr('text', 'defined') | map(attribute='text') | join('') }}
    {%- endif %}
{%- endmacro %}
{%- macro parts_of(content) %}
    {%- if content is string %}
        {{- content }}
    {%- else %}
        {%- for part in content %}
            {%- if part.type == 'image' %}
                {{- '<|image|>' }}
            {%- elif part.type == 'text' %}
                {{- part.text }}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
{%- set tool_list = custom_tools if custom_tools is defined else (tools if tools is defined else none) %}
{%- set tools_in_user = tools_in_user_message if tools_in_user_message is defined else true %}
{%- set format_rule = 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.Do not use variables.\n\n' %}
{{- bos_token }}
{%- set rest = messages %}
{%- if messages[0]['role'] == 'system' %}
    {%- set rest = messages[1:] %}
    {{- '<|header_start|>system<|header_end|>\n\n' }}
    {%- if tool_list is not none %}
        {{- 'Environment: ipython\n' }}
        {%- if not tools_in_user %}
            {{- 'You have access to the following functions. To call a function, please respond with JSON for a function call.' + format_rule }}
            {%- for t in tool_list %}
                {{- t | tojson(indent=4) + '\n\n' }}
            {%- endfor %}
        {%- endif %}
    {%- endif %}
    {{- text_of(messages[0]['content']) | trim }}
    {{- '<|eot|>' }}
{%- endif %}
{%- if tools_in_user and tool_list is not none %}
    {%- if rest | length == 0 %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
    {%- endif %}
    {{- '<|header_start|>user<|header_end|>\n\n' }}
    {{- 'Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n' + format_rule }}
    {%- for t in tool_list %}
        {{- t | tojson(indent=4) + '\n\n' }}
    {%- endfor %}
    {{- (text_of(rest[0]['content']) | trim) + '<|eot|>' }}
    {%- set rest = rest[1:] %}
{%- endif %}
{%- for m in rest %}
    {%- set is_tool_output = m.role == 'tool' or m.role == 'ipython' %}
    {%- if not (is_tool_output or 'tool_calls' in m) %}
        {{- '<|header_start|>' + m['role'] + '<|header_end|>\n\n' + parts_of(m['content']) + '<|eot|>' }}
    {%- elif 'tool_calls' in m and m.tool_calls | length > 0 %}
        {{- '<|header_start|>assistant<|header_end|>\n\n<|python_start|>' + parts_of(m['content']) + '<|python_end|>' }}
        {%- for call in m.tool_calls %}
            {{- '{"name": "' + call.function.name + '", "parameters": ' + (call.function.arguments | tojson) + '}' }}
        {%- endfor %}
        {{- '<|eot|>' }}
    {%- elif is_tool_output %}
        {{- '<|header_start|>ipython<|header_end|>\n\n' }}
        {{- (m.content | tojson) if (m.content is mapping or m.content is iterable) else m.content }}
        {{- '<|eot|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|header_start|>assistant<|header_end|>\n\n' }}
{%- endif %})JINJA";

const char* kMistralV1 = R"JINJA(
{%- set sys = namespace(text=none) %}
{%- set turns = messages %}
{%- if messages[0]['role'] == 'system' %}
    {%- set c = messages[0]['content'] %}
    {%- set sys.text = c if c is string else c | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') %}
    {%- set turns = messages[1:] %}
{%- endif %}
{{- bos_token }}
{%- for m in turns %}
    {%- if (m.role == 'user') != loop.index0 is even %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- set text = m.content if m.content is string else m.content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') %}
    {%- if m.role == 'user' %}
        {%- if loop.first and sys.text is not none %}
            {%- set text = sys.text + '\n\n' + text %}
        {%- endif %}
        {{- ' [INST] ' + text + ' [/INST]' }}
    {%- elif m.role == 'assistant' %}
        {{- ' ' + text + eos_token }}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %})JINJA";

// Mistral v2/v3 (SentencePiece) and v3 Tekken share one shape; only the spacing around the
// control tokens differs. @SP@ marks where the SentencePiece flavour puts a space.
const char* kMistralV3Shape = R"JINJA(
{%- set sys = namespace(text=none) %}
{%- set turns = messages %}
{%- if messages[0]['role'] == 'system' %}
    {%- set c = messages[0]['content'] %}
    {%- set sys.text = c if c is string else c | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') %}
    {%- set turns = messages[1:] %}
{%- endif %}
{%- set tool_list = tools if tools is defined else none %}
{%- set last_user = (turns | selectattr('role', 'equalto', 'user') | list)[-1] %}
{%- set order = namespace(n=0) %}
{%- for m in turns %}
    {%- set is_tool_turn = m.role == 'tool' or m.role == 'tool_results' or (m.tool_calls is defined and m.tool_calls is not none) %}
    {%- if not is_tool_turn %}
        {%- if (m.role == 'user') != (order.n % 2 == 0) %}
            {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
        {%- endif %}
        {%- set order.n = order.n + 1 %}
    {%- endif %}
{%- endfor %}
{{- bos_token }}
{%- for m in turns %}
    {%- if m.role == 'user' %}
        {%- set text = m.content if m.content is string else m.content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') %}
        {%- if tool_list is not none and m == last_user %}
            {{- '[AVAILABLE_TOOLS]@SP@[' }}
            {%- for t in tool_list %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in t.function.items() if key != 'return' %}
                    {{- '"' + key + '": ' + ('"' + val + '"' if val is string else val | tojson) }}
                    {{- '' if loop.last else ', ' }}
                {%- endfor %}
                {{- '}}' + (']' if loop.last else ', ') }}
            {%- endfor %}
            {{- '[/AVAILABLE_TOOLS]' }}
        {%- endif %}
        {%- if loop.last and sys.text is not none %}
            {%- set text = sys.text + '\n\n' + text %}
        {%- endif %}
        {{- '[INST]@SP@' + text + '[/INST]' }}
    {%- elif m.tool_calls is defined and m.tool_calls is not none %}
        {{- '[TOOL_CALLS]@SP@[' }}
        {%- for call in m.tool_calls %}
            {{- (call.function | tojson)[:-1] }}
            {%- if call.id is not defined or call.id | length != 9 %}
                {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
            {%- endif %}
            {{- ', "id": "' + call.id + '"}' + (']' + eos_token if loop.last else ', ') }}
        {%- endfor %}
    {%- elif m.role == 'assistant' %}
        {%- set text = m.content if m.content is string else m.content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') %}
        {{- @ASSISTANT@ + eos_token }}
    {%- elif m.role == 'tool' or m.role == 'tool_results' %}
        {%- set result = m.content.content if (m.content is defined and m.content.content is defined) else m.content %}
        {{- '[TOOL_RESULTS]@SP@{"content": ' + result | string + ', ' }}
        {%- if m.tool_call_id is not defined or m.tool_call_id | length != 9 %}
            {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
        {%- endif %}
        {{- '"call_id": "' + m.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %})JINJA";

const char* kMistralV7Tekken = R"JINJA(
{%- set default_system = "You are Mistral Small 3, a Large Language Model (LLM) created by Mistral AI, a French startup headquartered in Paris.\nYour knowledge base was last updated on 2023-10-01. The current date is " + strftime_now('%Y-%m-%d') + ".\n\nWhen you're not sure about some information, you say that you don't have the information and don't make up anything.\nIf the user's question is not clear, ambiguous, or does not provide enough context for you to accurately answer the question, you do not try to answer it right away and you rather ask the user to clarify their request (e.g. \"What are some good restaurants around me?\" => \"Where are you?\" or \"When is the next flight to Tokyo\" => \"Where do you travel from?\")" %}
{%- macro text_of(content) %}
    {{- content if content is string else content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') }}
{%- endmacro %}
{{- bos_token }}
{%- set turns = messages %}
{%- if messages[0]['role'] == 'system' %}
    {{- '[SYSTEM_PROMPT]' + text_of(messages[0]['content']) + '[/SYSTEM_PROMPT]' }}
    {%- set turns = messages[1:] %}
{%- else %}
    {{- '[SYSTEM_PROMPT]' + default_system + '[/SYSTEM_PROMPT]' }}
{%- endif %}
{%- for m in turns %}
    {%- if m.role == 'user' %}
        {{- '[INST]' }}
        {%- if m.content is string %}
            {{- m.content }}
        {%- else %}
            {%- for part in m.content %}
                {%- if part.type == 'text' %}
                    {{- part.text }}
                {%- elif part.type in ['image', 'image_url'] %}
                    {{- '[IMG]' }}
                {%- else %}
                    {{- raise_exception('Only text and image blocks are supported in message content!') }}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {{- '[/INST]' }}
    {%- elif m.role == 'system' %}
        {{- '[SYSTEM_PROMPT]' + text_of(m.content) + '[/SYSTEM_PROMPT]' }}
    {%- elif m.role == 'assistant' %}
        {{- text_of(m.content) + eos_token }}
    {%- else %}
        {{- raise_exception('Only user, system and assistant roles are supported!') }}
    {%- endif %}
{%- endfor %})JINJA";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

}  // namespace

void add_general_templates(std::map<std::string, std::string>& t) {
  t["alpaca"] = kAlpaca;
  t["chatml"] = kChatml;
  t["llama3"] = kLlama3;
  t["llama4"] = kLlama4;
  t["mistral_v1"] = kMistralV1;
  std::string shape = kMistralV3Shape;
  t["mistral_v2v3"] = replace_all(replace_all(shape, "@SP@", " "), "@ASSISTANT@", "' ' + text | trim");
  t["mistral_v3_tekken"] = replace_all(replace_all(shape, "@SP@", ""), "@ASSISTANT@", "text");
  t["mistral_v7_tekken"] = kMistralV7Tekken;
}

}  // namespace axl::chat
